def test_login_and_me(world, client_for):
    client = client_for(world.customer)
    response = client.get("/api/me/")
    assert response.status_code == 200
    assert response.json()["email"] == world.customer.email
